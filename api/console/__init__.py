"""The operator console: server-rendered pages under /console/ on the API's own service functions."""
