"""Smart charging (K01, K02, K05-K10): profile validation, store, composite schedules, limits."""
