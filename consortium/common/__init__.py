"""The bottom floor: helpers every app may use (mail outbox, absolute links). Imports no app of ours;
apps register into it (mail gates) from their AppConfig.ready()."""
