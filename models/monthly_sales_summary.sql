-- A monthly rollup of the daily summary. A month reads every day inside it: it runs after them, waits
-- while one is not materialized, and turns stale when one of them is rebuilt.
-- partition_by: month
-- grain: month
-- timezone: Asia/Tokyo
-- start: 2026-01-01
-- end: 2026-01-31
-- tags: rollup
SELECT
    CAST(DATE_TRUNC('month', date) AS DATE) AS month,
    SUM(row_count) AS sales,
    SUM(total_amount) AS total_amount
FROM daily_sales_summary
WHERE date >= @start AND date < @end
GROUP BY CAST(DATE_TRUNC('month', date) AS DATE)
