// Live status of notes on every page (issue 14).
