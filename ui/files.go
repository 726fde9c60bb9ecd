package ui

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// file is a campaign or contacts file the page offers: one in the
// folder pregon ui serves (ID "d/NAME"), or one uploaded (ID "u/NAME").
type file struct {
	ID, Name string
	Uploaded bool
}

// files are the files to pick from.
type files struct {
	Campaigns, Contacts []file
}

func (s *Server) uploads() string { return filepath.Join(s.o.StateDir, "uploads") }

// listFiles lists the campaign files (.json) and contacts files (.csv)
// of the folder and of the uploads, by name.
func (s *Server) listFiles() files {
	var out files
	for _, where := range []struct {
		prefix, dir string
	}{{"d/", s.o.Dir}, {"u/", s.uploads()}} {
		entries, _ := os.ReadDir(where.dir)
		for _, e := range entries {
			f := file{ID: where.prefix + e.Name(), Name: e.Name(), Uploaded: where.prefix == "u/"}
			if _, ok := s.path(f.ID); !ok {
				continue
			}
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".json":
				out.Campaigns = append(out.Campaigns, f)
			case ".csv":
				out.Contacts = append(out.Contacts, f)
			}
		}
	}
	return out
}

// path is the file an ID names: a regular file, not hidden, directly in
// the folder or the uploads; nothing else the browser may name is read.
func (s *Server) path(id string) (string, bool) {
	var dir string
	switch {
	case strings.HasPrefix(id, "d/"):
		dir = s.o.Dir
	case strings.HasPrefix(id, "u/"):
		dir = s.uploads()
	default:
		return "", false
	}
	name := id[2:]
	if name == "" || strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`) || filepath.Base(name) != name {
		return "", false
	}
	p := filepath.Join(dir, name)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return p, true
}

// errTooLarge is an upload over the limit; errNotCSV one that is neither
// a contacts file nor a campaign file.
var (
	errTooLarge = errors.New("too large")
	errNotCSV   = errors.New("not a .csv or .json file")
)

// saveUpload copies an uploaded file into the uploads, readable by this
// user only, under its own name made safe (another if that is taken). It
// returns the file's ID.
func (s *Server) saveUpload(name string, r io.Reader) (string, error) {
	name = safeName(name)
	ext := strings.ToLower(filepath.Ext(name))
	if ext != ".csv" && ext != ".json" {
		return "", errNotCSV
	}
	dir := s.uploads()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	base := strings.TrimSuffix(name, filepath.Ext(name))
	for i := 1; ; i++ {
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 1000 {
			continue
		}
		if err != nil {
			return "", err
		}
		n, err := io.Copy(f, io.LimitReader(r, s.o.MaxUpload+1))
		if err == nil && n > s.o.MaxUpload {
			err = errTooLarge
		}
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = errTooLarge
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return "", err
		}
		return "u/" + name, nil
	}
}

// safeName is a file name from the browser as one to keep: its last
// element, letters, digits and a few marks, not hidden, not too long.
func safeName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -_.()", r) {
			return r
		}
		return '_'
	}, name)
	name = strings.TrimLeft(name, ". ")
	if r := []rune(name); len(r) > 100 {
		name = string(r[len(r)-100:])
	}
	return name
}

// fileName is the name of the file an ID names, as the page shows it.
func fileName(id string) string {
	if len(id) > 2 {
		return id[2:]
	}
	return id
}
