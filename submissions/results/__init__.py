"""The results explorer (issue 13): every published result of every round and suite, to filter,
compare, chart and export. Reads the published record of submissions/review/ and adds what the
explorer needs to it (host processors, the system description, run-by-run times) in its own tables."""
