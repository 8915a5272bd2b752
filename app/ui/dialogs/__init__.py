"""The app's dialogs: settings, export, about/methods."""
