"""The models the project knows by name: a catalogue (`catalogue`), where they are kept on this
machine (`cache`), and how they are fetched and checked (`pull`)."""
