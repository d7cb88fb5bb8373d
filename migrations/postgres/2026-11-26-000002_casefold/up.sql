-- casefold(text): Unicode lower-casing for case-insensitive search. On SQLite the
-- application registers a Rust function of the same name on every connection.
CREATE FUNCTION casefold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower($1) $$;
