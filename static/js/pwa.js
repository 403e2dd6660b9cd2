// Service worker registration and the offline upload queue (issue 14): see recognition/pwa.py.
