#!/usr/bin/env bash
# Adds N users and N live refresh-token families (one unused token each, one family per
# user, all of client `web`) straight into the database at WRISTBAND_DATABASE_URL, so that
# bench/run.sh can time the token endpoint against a database of a large deployment.
# Creating them through wristband would cost one argon2 hash per user (hours for a
# million); they copy the password hash and the authentication of rows bench/run.sh made.
#   WRISTBAND_DATABASE_URL=sqlite://... bench/seed-rows.sh 1000000
set -euo pipefail
rows="${1:?usage: seed-rows.sh ROWS}"
url="${WRISTBAND_DATABASE_URL:?set WRISTBAND_DATABASE_URL}"
now="$(date +%s)"

case "$url" in
  sqlite:*)
    path="${url#sqlite:}"; path="${path#//}"; path="${path%%\?*}"
    # SQLite stores UUIDs as 16-byte blobs.
    sqlite3 -bail "$path" <<SQL
.timeout 10000
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO users (id, username, email, email_verified, password_hash, roles, password_changed_at, created_at, updated_at)
SELECT randomblob(16), 'load' || i, 'load' || i || '@example.com', 1,
       (SELECT password_hash FROM users WHERE username = 'alice'), '[]', $now, $now, $now
FROM n;
INSERT INTO refresh_families (id, client_id, user_id, sid, scope, auth_time, acr, amr, created_at, last_used_at,
                              idle_expires_at, absolute_expires_at)
SELECT randomblob(16), 'web', id, NULL, 'openid offline_access', $now, 'urn:wristband:acr:1fa', '["pwd"]',
       $now, $now, $now + 2592000, $now + 7776000
FROM users WHERE username LIKE 'load%';
INSERT INTO refresh_tokens (token_hash, family_id, created_at)
SELECT lower(hex(randomblob(32))), f.id, $now
FROM refresh_families f JOIN users u ON u.id = f.user_id WHERE u.username LIKE 'load%';
COMMIT;
SQL
    ;;
  postgres:*)
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    "$pg_bin/psql" -q -v ON_ERROR_STOP=1 "$url" <<SQL
BEGIN;
INSERT INTO users (id, username, email, email_verified, password_hash, roles, password_changed_at, created_at, updated_at)
SELECT gen_random_uuid(), 'load' || i, 'load' || i || '@example.com', true,
       (SELECT password_hash FROM users WHERE username = 'alice'), '[]', $now, $now, $now
FROM generate_series(1, $rows) AS i;
INSERT INTO refresh_families (id, client_id, user_id, sid, scope, auth_time, acr, amr, created_at, last_used_at,
                              idle_expires_at, absolute_expires_at)
SELECT gen_random_uuid(), 'web', id, NULL, 'openid offline_access', $now, 'urn:wristband:acr:1fa', '["pwd"]',
       $now, $now, $now + 2592000, $now + 7776000
FROM users WHERE username LIKE 'load%';
INSERT INTO refresh_tokens (token_hash, family_id, created_at)
SELECT md5(random()::text) || md5(random()::text), f.id, $now
FROM refresh_families f JOIN users u ON u.id = f.user_id WHERE u.username LIKE 'load%';
COMMIT;
ANALYZE;
SQL
    ;;
  *) echo "seed-rows.sh: unsupported database URL" >&2; exit 1 ;;
esac
echo "  added $rows users and $rows refresh-token families"
