"""Smart charging (K01-K10): profile validation, store, composite schedule, enforcement."""
