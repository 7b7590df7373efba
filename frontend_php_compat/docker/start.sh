#!/bin/bash
# The PHP front end's container command: fill the server configurations (conf/*, the templates
# tools/php_frontend.py fills for ./dev) from the environment, start php-fpm, then nginx, and
# stay in the foreground until either exits or the container is stopped. Logs go to stderr.
set -euo pipefail

die() { echo "php-frontend: $*" >&2; exit 2; }

root=/srv/snipshop
conf=$root/frontend_php_compat/conf
run=${PHP_RUN_DIR:-/run/snipshop-php}
host=${BIND_HOST:-127.0.0.1}
port=${PHP_PORT:-8080}
workers=${PHP_WORKERS:-4}
[[ $port =~ ^[0-9]{1,5}$ ]] && ((port > 0 && port < 65536)) || die "PHP_PORT must be a port number, not '$port'"
[[ $workers =~ ^[0-9]{1,4}$ ]] && ((workers > 0)) || die "PHP_WORKERS must be a positive number, not '$workers'"
[[ $host =~ ^[0-9A-Za-z.:-]+$ ]] || die "BIND_HOST must be a host name or address, not '$host'"
[[ $host == *:* ]] && host="[$host]"  # an IPv6 address in nginx's listen
revision=${SNIPSHOP_REVISION:-unknown}
[[ $revision =~ ^[A-Za-z0-9._:+-]{1,128}$ ]] || die "SNIPSHOP_REVISION must be letters, digits and ._:+- only, not '$revision'"
[[ -n ${REDIS_URL:-} ]] || echo "php-frontend: REDIS_URL is not set, using redis://127.0.0.1:6379/0" >&2

mkdir -p "$run/temp"
rm -f "$run/php-fpm.sock"
script=$root/frontend_php_compat/public/index.php
for name in php-fpm.conf nginx.conf shop-fastcgi.conf; do
  sed -e "s|@WORKDIR@|$run|g" -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$workers|g" \
      -e "s|@SCRIPT@|$script|g" -e "s|@SCRIPT_NAME@|index.php|g" -e "s|@DOCROOT@|${script%/*}|g" \
      -e "s|@STATIC_ROOT@|$root/web/edge|g" -e "s|@VALIDATE_TIMESTAMPS@|0|g" -e "s|@USER@||g" -e "s|@REVISION@|$revision|g" \
      -e "s|@FPM_LOG@|/proc/self/fd/2|g" -e "s|@NGINX_LOG@|stderr|g" \
      "$conf/$name" > "$run/$name"
  if left=$(grep -oE '@[A-Z_]+@' "$run/$name"); then
    die "no value for $(echo "$left" | sort -u | tr '\n' ' ')in $name"
  fi
done

php-fpm --nodaemonize -d opcache.enable=1 --fpm-config "$run/php-fpm.conf" &
fpm=$!
for _ in $(seq 100); do
  [[ -S $run/php-fpm.sock ]] && break
  kill -0 "$fpm" 2>/dev/null || die "php-fpm exited before opening its socket"
  sleep 0.1
done
nginx -e stderr -p "$run" -c "$run/nginx.conf" &
web=$!
echo "php-frontend: php-fpm ($workers workers) behind nginx on $host:$port, revision ${SNIPSHOP_REVISION:-unknown}" >&2

# docker stop: nginx finishes the requests it has (QUIT), then php-fpm stops.
stopping=0
trap 'stopping=1; kill -QUIT "$web" 2>/dev/null || true' TERM INT
status=0
wait -n "$fpm" "$web" || status=$?
if ((stopping)); then
  wait "$web" || true
  status=0
else
  echo "php-frontend: a server exited ($status); stopping the other" >&2
  kill -QUIT "$web" 2>/dev/null || true
fi
kill -QUIT "$fpm" 2>/dev/null || true
wait || true
exit "$status"
