"""Development and CI tooling: sample data, the bench, the billing smoke, the Stripe emulator and the
throwaway PostgreSQL server. The CLI and the tests use it; nothing at run time imports it."""
