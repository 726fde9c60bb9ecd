package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/pregon/pregon/i18n"
)

// maxListed is how many files a missing file's message lists from its
// folder.
const maxListed = 10

// fileText puts in words the system's commonest errors about a file the
// user named (not found, a folder, no permission), with the context
// before it as it is; ok is false for any other error.
func fileText(tr *i18n.Printer, err error) (string, bool) {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return "", false
	}
	switch pe.Op {
	case "open", "read", "stat", "lstat":
	default:
		return "", false
	}
	var text string
	switch {
	case errors.Is(pe.Err, fs.ErrNotExist):
		text = notFoundText(tr, pe.Path)
	case errors.Is(pe.Err, syscall.EISDIR):
		text = tr.T("file.is_folder", pe.Path)
		if names := filesIn(pe.Path, ""); len(names) > 0 {
			text += " " + tr.T("file.folder_has", listed(tr, names))
		}
	case errors.Is(pe.Err, fs.ErrPermission):
		text = tr.T("file.permission", pe.Path)
	default:
		return "", false
	}
	// The context before the system's words, unless it only names the
	// file again ("campana: read campana: is a directory").
	prefix, ok := strings.CutSuffix(err.Error(), pe.Error())
	if !ok || strings.TrimSuffix(strings.TrimSpace(prefix), ":") == filepath.Clean(pe.Path) {
		prefix = ""
	}
	return prefix + text, true
}

// notFoundText says a file is not there, and what its folder has that
// looks like it: a name Windows shows without its extension
// (clientes.csv.csv), or the folder's files of the same kind.
func notFoundText(tr *i18n.Printer, path string) string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return tr.T("file.no_folder", path, filepath.Clean(dir))
	}
	text := tr.T("file.not_found", path)
	names := filesIn(dir, strings.ToLower(filepath.Ext(base)))
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), strings.ToLower(base)+".") {
			return text + " " + tr.T("file.hidden_extension", filepath.Join(filepath.Dir(path), n), base)
		}
	}
	switch {
	case len(names) == 0:
		return text
	case dir == ".":
		return text + " " + tr.T("file.here_has", listed(tr, names))
	}
	return text + " " + tr.T("file.folder_has_named", filepath.Clean(dir), listed(tr, names))
}

// filesIn are the names of the .csv and .json files in dir (only those
// ending in ext, when it is one of them), sorted.
func filesIn(dir, ext string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := strings.ToLower(e.Name())
		switch {
		case ext == ".csv" || ext == ".json":
			if strings.HasSuffix(name, ext) {
				names = append(names, e.Name())
			}
		case strings.HasSuffix(name, ".csv"), strings.HasSuffix(name, ".json"):
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// listed names files in a sentence, at most maxListed of them.
func listed(tr *i18n.Printer, names []string) string {
	if len(names) > maxListed {
		return strings.Join(names[:maxListed], ", ") + " " + tr.T("file.and_more", len(names)-maxListed)
	}
	return tr.List(names)
}

// samePath reports whether err is about the file path.
func samePath(err error, path string) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && filepath.Clean(pe.Path) == filepath.Clean(path)
}
