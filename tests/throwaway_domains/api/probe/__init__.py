"""A throwaway API domain, in no central list: tests/api/test_api_domain_discovery.py appends this
folder's parent to `api.__path__`, as a new folder under api/ would be, and its route must be served and
its write committed."""
