"""Working groups, their members and chairs, meetings, and benchmark rounds (issue 4)."""
