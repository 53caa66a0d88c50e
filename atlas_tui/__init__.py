"""The app shell: CLI, config, Textual app and screens, folder watcher, engine bridge."""
