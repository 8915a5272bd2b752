"""The widgets and dialogs: the window, its panels and canvases, their overlays, the actions and
menus, and the opener, exporter and weights importer the window delegates to."""
