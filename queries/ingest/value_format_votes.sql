-- Purpose: does the money column write 1.234,56 (decimal comma) or 1,234.56? Counts the values
-- that can only be read one way. Grain: one row.
SELECT
    count(*) FILTER (WHERE regexp_full_match(d, '-?\d{1,3}(\.\d{3})+(,\d+)?|-?\d+,\d{1,2}'))
        AS decimal_comma,
    count(*) FILTER (WHERE regexp_full_match(d, '-?\d{1,3}(,\d{3})+(\.\d+)?|-?\d+\.\d{1,2}'))
        AS decimal_point
FROM (SELECT regexp_replace(value_raw, '[^0-9,.\-]', '', 'g') AS d FROM staged
      WHERE value_raw IS NOT NULL LIMIT 100000);
