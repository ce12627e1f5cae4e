"""Find alerts by what an analyst types into a search box: the JSON API's ``q`` and the console
queue's search field both come here, so they find the same alerts.

What is typed is looked for in several ways, each one request to the alerts index, all sent in one
batch (one ``_msearch`` on Elasticsearch); an alert found by any of them is found:

- words of its title (the rule's title), summary or reason (every word must occur);
- an identifier its reports carry, however it is written ("138-0013-8000", "+86 138 0013 8000",
  "hxxp://x[.]com"), recognised by the public check page's own reader, or its group key
  (the number, region or app a rule grouped by);
- a rule id or part of one ("burst", "voice-clone-wave");
- a registered application's name or part of it, or its filing number; and an app name the
  reports gave for an unregistered app.

The index gives alert ids only: the caller's database query still applies every other filter
and the alert's current state.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.search import FilterValue, SearchIndex, SearchQuery, SearchResult
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring.alerts import service
from tierwatch.monitoring.alerts.delivery import ALERTS_INDEX
from tierwatch.monitoring.alerts.models import Alert
from tierwatch.monitoring.identifiers import APP, normalise_app_name
from tierwatch.monitoring.linking import normalise_filing_number
from tierwatch.monitoring.public.checking import recognise
from tierwatch.registry.models import Application, ApplicationVersion

MAX_QUERY = 200  # characters; more is cut (nobody types a longer number, name or phrase)
MAX_HITS = 1000  # alerts per way of finding; the queue pages over what the database keeps
MAX_NAMED = 200  # rule ids or applications a part of a name may stand for
_RULE_PART = re.compile(r"^[a-z0-9-]{3,80}$")  # rule ids are lower-case words joined by "-"


def alert_ids_matching(uow: UnitOfWork, actor: Actor, search: SearchIndex, q: str) -> tuple[int, ...]:
    """Ids of the alerts that ``q`` finds (ascending); none for blank input or before any
    alert was indexed."""
    service.check_reader(actor)
    text = " ".join(q.split())[:MAX_QUERY]
    if not text:
        return ()
    requests = [SearchQuery(text=text, limit=MAX_HITS)]
    requests += [SearchQuery(filters={name: values}, limit=MAX_HITS)
                 for name, values in _keyword_filters(uow, text).items() if values]
    try:
        results = search.batch(ALERTS_INDEX, requests)
    except IndexNotFound:  # no alert was ever indexed
        return ()
    found: set[int] = set()
    for result in results:
        if isinstance(result, Exception):  # as a single search would: an engine error is not "none"
            raise result
        assert isinstance(result, SearchResult)
        found.update(int(hit["id"]) for hit in result.hits)
    return tuple(sorted(found))


def _keyword_filters(uow: UnitOfWork, text: str) -> dict[str, FilterValue]:
    """Alerts-index keyword field -> the values ``text`` may stand for in it."""
    recognised = recognise(text)
    app_name = normalise_app_name(text)
    identifiers = [*(recognised.keys if recognised else ()), *([f"{APP}:{app_name}"] if app_name else [])]
    keys = [text, *([recognised.value] if recognised else [])]
    return {"identifiers": sorted(set(identifiers)), "group_key": sorted(set(keys)),
            "rule_id": _rule_ids(uow, text), "application_ids": _application_ids(uow, text, app_name)}


def _rule_ids(uow: UnitOfWork, text: str) -> list[str]:
    """The rules of raised alerts whose id holds ``text`` (rules since removed included)."""
    part = text.lower()
    if not _RULE_PART.match(part):
        return []
    stmt = (sa.select(Alert.rule_id).where(Alert.rule_id.contains(part, autoescape=True)).distinct()
            .order_by(Alert.rule_id).limit(MAX_NAMED))
    return list(uow.session.scalars(stmt))


def _application_ids(uow: UnitOfWork, text: str, app_name: str) -> list[str]:
    """Registered applications whose filing number is ``text`` or whose name, now or in an
    earlier version, holds it (as typed, or without a trailing "APP")."""
    names = {n for n in (text, app_name) if len(n) >= 2}
    if not names:
        return []
    named = [Application.name.icontains(n, autoescape=True) for n in names]
    renamed = (sa.select(ApplicationVersion.application_id)
               .where(sa.or_(*(ApplicationVersion.name.icontains(n, autoescape=True) for n in names))))
    stmt = (sa.select(Application.id).where(sa.or_(
        *named, Application.filing_number == normalise_filing_number(text), Application.id.in_(renamed)))
        .order_by(Application.id).limit(MAX_NAMED))
    return [str(i) for i in uow.session.scalars(stmt)]
