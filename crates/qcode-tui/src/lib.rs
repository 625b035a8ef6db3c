//! Interactive ratatui front end: app loop, transcript, composer, slash commands, dialogs
