-- A daily summary read from the daily model: it runs after it, day by day.
-- partition_by: date
-- grain: day
-- timezone: Asia/Tokyo
-- start: 2026-01-01
-- end: 2026-01-31
SELECT
    date,
    COUNT(*) AS row_count,
    SUM(amount) AS total_amount
FROM partitioned_sales_data
WHERE date >= @start AND date < @end
GROUP BY date
