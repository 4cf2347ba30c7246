"""After the deadline: peer review, objections, votes, withdrawals and the published record (issue 12).

Models live in models.py here and are imported by submissions/models.py (one app, one migration
history); tally.py and pairing.py are pure logic with no Django.
"""
