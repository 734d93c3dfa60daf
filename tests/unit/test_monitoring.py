"""The ready-made monitoring in deploy/ asks only for series the service exports.

A dashboard panel or an alert on a metric that does not exist (a typo, a
rename) shows "no data" or never fires; nobody notices until it matters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import generate_latest

from topcontact_mail.entrypoints.health import Health

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\b(topcontact_[a-z_]+)\b")


def exported() -> set[str]:
    health = Health()
    health.mailbox("klantcontact@woonservice.example")
    text = generate_latest(health.registry).decode()
    # Every family is declared (`# TYPE`), also a labelled one without samples yet.
    declared = set(re.findall(r"^# TYPE (topcontact_[a-z_]+) (\w+)", text, re.M))
    return {name for name, _ in declared} | {
        f"{n}_total" for n, kind in declared if kind == "counter"
    }


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text("utf-8"))
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [
        v["query"]["query"]
        for v in dashboard["templating"]["list"]
        if "query" in v and isinstance(v["query"], dict)
    ]
    return queries


def alert_rules() -> list[dict[str, object]]:
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yaml").read_text("utf-8"))
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_every_series_the_dashboard_and_the_alerts_ask_for_is_exported() -> None:
    names = exported()
    asked = {m for q in dashboard_queries() for m in METRIC.findall(q)}
    asked |= {m for r in alert_rules() for m in METRIC.findall(str(r["expr"]))}

    assert asked, "no metric found in the monitoring files"
    assert asked - names == set()


def test_every_alert_says_how_bad_it_is_and_what_happened() -> None:
    rules = alert_rules()
    names = [r["alert"] for r in rules]

    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}  # type: ignore[index]
        assert rule["annotations"]["summary"]  # type: ignore[index]
    # The two conditions in which nothing is acknowledged page someone.
    critical = {r["alert"] for r in rules if r["labels"]["severity"] == "critical"}  # type: ignore[index]
    assert {"TopContactDown", "TopContactCredentialsRefused"} <= critical


def test_the_dashboard_can_be_imported_and_filters_by_mailbox() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text("utf-8"))

    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "mailbox"} <= variables
    per_mailbox = [q for q in dashboard_queries() if "mailbox_healthy" not in q or "$mailbox" in q]
    assert all('mailbox=~"$mailbox"' in q for q in per_mailbox if "config_reloads" not in q)


def test_a_scale_out_instance_holding_no_mailbox_is_a_healthy_standby_once_it_looked() -> None:
    health = Health()
    health.about = lambda: {"id": "instance-c", "held": [], "share": 1}
    assert health.snapshot()["status"] == "starting"  # before its first look at the leases
    health.idle_ok = True
    snapshot = health.snapshot()
    assert snapshot["status"] == "ok"
    assert snapshot["instance"] == {"id": "instance-c", "held": [], "share": 1}
    assert "topcontact_healthy 1.0" in generate_latest(health.registry).decode()
