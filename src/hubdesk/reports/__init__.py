"""Daily summary, keeping-in-touch, trends and exports.

For the end-of-day screen (all headless; each takes an unlocked Store):
- hubdesk.store.day: day_checklist(store, hub, day).blockers, record_float_event, count_float,
  reconcile_float, record_voucher_stock, reconcile_vouchers, carry_over, write_handover,
  handover_for(store, hub, today) (what the last duty left), close_day.
- hubdesk.reports.daily: daily_summary(store, hub, day) -> DailySummary; render(summary, "md"|"csv"|"html").
- hubdesk.reports.in_touch: in_touch_report(store, as_of=..., pa=..., hub_code=...).
- hubdesk.reports.trends: weekly_trends(store, hub, end_day, weeks=8) and sparkline(values).
"""
