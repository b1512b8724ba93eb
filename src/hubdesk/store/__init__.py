"""The encrypted store: SQLCipher database, key slots, audit chain, outbox, backup."""
