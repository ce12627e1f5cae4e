"""What the public side of anti-fraud reads and writes: published warnings and case stories, the
check of a number or link, the status of a citizen's report, scam trends, disputes of a checked
identifier. Plain functions over a unit of work and the search index; no web framework here."""
