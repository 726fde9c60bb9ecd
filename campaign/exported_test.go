package campaign

import "testing"

// Only pregon's own marker column makes a file an export: a customer list
// may have "line" and "state" columns of its own.
func TestExportIsRecognisedByItsMarker(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	tests := []struct {
		name, csv string
		want      Exported
	}{
		{"user columns line and state", "phone;nombre;line;state\n12;Luis;3;invalid\n", Exported{}},
		{"export", "phone;nombre;pregon_file;pregon_line;pregon_state;pregon_error;pregon_attempts;pregon_message_id;pregon_sent_at;pregon_row\n" +
			"12;Luis;clientes.csv;3;invalid;x;0;;;57\n", Exported{Record: 57, File: "clientes.csv"}},
		{"export with the marker edited away", "phone;nombre;pregon_file;pregon_row\n12;Luis;clientes.csv;\n", Exported{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := readAll(t, c, writeFile(t, "f.csv", tt.csv))
			if len(msgs) != 1 || msgs[0].Exported != tt.want {
				t.Errorf("exported = %+v, want %+v", msgs[0].Exported, tt.want)
			}
		})
	}
}

// A broken row is known by its content: the same in its file and in an
// export of it (columns reordered, an export's own columns, blank cells
// added), and different once a cell changes.
func TestRowKeyIsTheRowsContent(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	key := func(csv string) string {
		t.Helper()
		msgs := readAll(t, c, writeFile(t, "f.csv", csv))
		if len(msgs) != 1 || msgs[0].Problem == nil || msgs[0].Key == "" {
			t.Fatalf("want one broken row with a key, got %+v", msgs)
		}
		return msgs[0].Key
	}
	original := key("phone;nombre;ciudad\n12;Luis;Quito\n")
	same := map[string]string{
		"columns reordered": "ciudad,nombre,phone\nQuito,Luis,12\n",
		"spaces around":     "phone;nombre;ciudad\n 12 ;Luis ;Quito\n",
		"blank column":      "phone;nombre;ciudad;notas\n12;Luis;Quito;\n",
		"in an export": "phone;nombre;ciudad;pregon_file;pregon_line;pregon_state;pregon_error;pregon_attempts;pregon_message_id;pregon_sent_at;pregon_row\n" +
			"12;Luis;Quito;clientes.csv;3;invalid;is not a phone number;0;;;57\n",
	}
	for name, csv := range same {
		if got := key(csv); got != original {
			t.Errorf("%s: key %s, want the original's %s", name, got, original)
		}
	}
	if key("phone;nombre;ciudad\n12;Luisa;Quito\n") == original {
		t.Error("a changed cell kept the key")
	}
	// In a file that is not an export, pregon's names are ordinary columns.
	if key("phone;nombre;ciudad;pregon_file\n12;Luis;Quito;x\n") == original {
		t.Error("a user's column was left out of the key")
	}
}
