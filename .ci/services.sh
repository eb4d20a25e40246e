#!/usr/bin/env bash
# Make sure the local services ReTrack's tests use are up (copied from the team's shared/services.sh): PostgreSQL 127.0.0.1:5432 and Redis 127.0.0.1:6379
# (Mosquitto 127.0.0.1:1883 too, for interop tests). Starts any that is down; installs it from Debian's
# packages first where it is missing (a plain machine). Idempotent; exits non-zero if a service stays down.
set -u
have() { command -v "$1" >/dev/null 2>&1; }
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.2; done; return 1; }
need_apt=()
have redis-server || need_apt+=(redis-server)
[ -d /usr/lib/postgresql ] || need_apt+=(postgresql)
have mosquitto || need_apt+=(mosquitto mosquitto-clients)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "services: installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! up 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if ! up 6379; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! up 1883; then
  echo "services: starting Mosquitto"
  mkdir -p /run/mosquitto /var/log/mosquitto /var/lib/mosquitto
  chown mosquitto /run/mosquitto /var/log/mosquitto /var/lib/mosquitto 2>/dev/null
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi
rc=0
for p in 5432 6379 1883; do wait_up "$p" || { echo "services: nothing listens on 127.0.0.1:$p" >&2; rc=1; }; done
# Trust auth for local TCP, as on the service machines (a plain Debian install asks for a password).
if up 5432 && ! psql -w -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  conf=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
  sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$conf"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main reload
  sleep 1
fi
su postgres -c "psql -Atc \"select 1 from pg_database where datname='test'\"" 2>/dev/null | grep -q 1 || su postgres -c "createdb test" 2>/dev/null
psql -w -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1 || { echo "services: cannot connect to postgres@127.0.0.1/test" >&2; rc=1; }
exit $rc
