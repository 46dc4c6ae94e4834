"""`make bench`'s webhook run counts for real: signed deliveries through QboWebhookFunction's handler as
Lambda loads it, each accepted, each queueing its job, with two AWS requests a delivery once the company is
known (the dedupe key, the job)."""

from __future__ import annotations

from bench import webhook


def test_the_webhook_bench_acknowledges_every_delivery_with_two_requests_each() -> None:
    figures = webhook.run(25)
    assert (figures.accepted, figures.jobs) == (25, 25)
    assert figures.requests_per_delivery == 2.0
    assert 0 < figures.p50_ms <= figures.p99_ms <= figures.max_ms
    assert figures.p99_ms < figures.with_moto_p99_ms  # moto's work is taken out
    assert "AWS requests each   2.00" in webhook.format_figures(figures)
