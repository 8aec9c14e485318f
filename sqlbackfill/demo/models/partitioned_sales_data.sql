-- The sales example: one row per sale, with its amount, partitioned by sale date in Tokyo.
-- name: partitioned_sales_data
-- partition_by: date
-- grain: day
-- timezone: Asia/Tokyo
-- start: 2026-01-01
-- end: 2026-01-31
-- backfill: per_partition
-- metrics: count(*) AS row_count, sum(amount) AS total_amount
-- export: exports/{yyyy}/{mm}/{dd}/sales.csv
SELECT
    date,
    product,
    -- A guard: a negative quantity fails the partition, its message naming the sale, instead of loading
    -- bad data (a cast that cannot succeed fails the same way on DuckDB, PostgreSQL and Snowflake).
    CAST(
        CASE WHEN quantity < 0 THEN 'negative quantity for ' || product || ' on ' || CAST(date AS VARCHAR)
        ELSE CAST(quantity AS VARCHAR) END
        AS INTEGER
    ) AS quantity,
    price,
    quantity * price AS amount
FROM raw_sales
WHERE date >= @start AND date < @end
