#!/bin/sh
# Runs a command against a fake ADE9000 in a private mount and network namespace, so that libiio's
# real `local:` and `ip:` backends can be tested without hardware and without touching the host.
#
#   iio-sandbox.sh WORKDIR BACKEND COMMAND [ARG...]
#
# WORKDIR   a fresh directory; WORKDIR/samples.bin holds the bytes the fake device delivers (the
#           enabled channels' samples, big-endian s32, interleaved in scan-index order)
# BACKEND   local    the command reads /dev/iio:device0 through libiio's local backend
#           ip       iiod serves the fake device on 127.0.0.1 (port 30431) inside the namespace
#           ip-down  the namespace has a loopback interface but no iiod
#
# Inside the namespaces:
#   /sys/bus  a tmpfs holding iio/devices/iio:device0, shaped like the Linux ade9000 driver's device:
#             current0 voltage0 current1 voltage1 current2 voltage2 at scan indexes 0-5, format
#             be:s32/32>>0, scale 0.000000013 (1/74770000 as sysfs prints it). FAKE_IIO_NEUTRAL=1
#             adds current3 at index 6; FAKE_IIO_SAMPLING_FREQUENCY=N adds a sampling_frequency
#             attribute.
#   /dev      a tmpfs-backed directory with null, zero, full, random, urandom bound from the host and
#             iio:device0 a FIFO, fed with WORKDIR/samples.bin once the reader opens it; the writer
#             then keeps the FIFO open without writing, so the reader's next refill times out.
#
# Needs util-linux's unshare, iproute2's ip, iiod (for ip), and root or unprivileged user namespaces.
# Exits with the command's status; set-up failures exit 90-99 with a message on stderr.
set -eu

fail() {
    echo "iio-sandbox: $*" >&2
    exit "${FAIL_CODE:-90}"
}

if [ "${1:-}" != "--inside" ]; then
    [ $# -ge 3 ] || fail "usage: iio-sandbox.sh WORKDIR local|ip|ip-down COMMAND [ARG...]"
    command -v unshare >/dev/null || FAIL_CODE=91 fail "unshare not found: install util-linux"
    case "$2" in
    local) ;;
    ip | ip-down)
        command -v ip >/dev/null || FAIL_CODE=91 fail "ip not found: install iproute2"
        if [ "$2" = ip ]; then
            command -v iiod >/dev/null || PATH="$PATH:/usr/sbin:/sbin"
            command -v iiod >/dev/null || FAIL_CODE=91 fail "iiod not found: install Debian's iiod package"
        fi
        ;;
    *) fail "unknown backend '$2': expected local, ip or ip-down" ;;
    esac
    [ -f "$1/samples.bin" ] || fail "$1/samples.bin is missing"
    if [ "$(id -u)" = 0 ]; then
        flags="--mount --net"
    else
        flags="--user --map-root-user --mount --net"
    fi
    rm -f "$1/inside"
    status=0
    # shellcheck disable=SC2086
    unshare $flags --propagation private -- /bin/sh "$0" --inside "$@" || status=$?
    if [ ! -f "$1/inside" ]; then
        FAIL_CODE=92 fail "cannot create namespaces (unshare $flags): run as root or enable user namespaces"
    fi
    exit "$status"
fi

shift
work=$1
backend=$2
shift 2
PATH="$PATH:/usr/sbin:/sbin"
: >"$work/inside"

# The fake ADE9000.
mount -t tmpfs -o mode=755 loadguard-fake-sysfs /sys/bus || FAIL_CODE=93 fail "cannot mount a tmpfs on /sys/bus"
device=/sys/bus/iio/devices/iio:device0
mkdir -p "$device/scan_elements" "$device/buffer"
echo ade9000 >"$device/name"
echo 250:0 >"$device/dev"
add_channel() { # type index scan-index
    echo 0 >"$device/in_$1$2_raw"
    echo 0.000000013 >"$device/in_$1$2_scale"
    echo 0 >"$device/scan_elements/in_$1$2_en"
    echo "$3" >"$device/scan_elements/in_$1$2_index"
    echo "be:s32/32>>0" >"$device/scan_elements/in_$1$2_type"
}
add_channel current 0 0
add_channel voltage 0 1
add_channel current 1 2
add_channel voltage 1 3
add_channel current 2 4
add_channel voltage 2 5
if [ "${FAKE_IIO_NEUTRAL:-0}" = 1 ]; then add_channel current 3 6; fi
if [ -n "${FAKE_IIO_SAMPLING_FREQUENCY:-}" ]; then
    echo "$FAKE_IIO_SAMPLING_FREQUENCY" >"$device/sampling_frequency"
fi
echo 0 >"$device/buffer/enable"
echo 0 >"$device/buffer/length"
echo 1 >"$device/buffer/watermark"

# A /dev with the usual pseudo-devices and the FIFO.
rm -rf "$work/dev"
mkdir -p "$work/dev"
for node in null zero full random urandom; do
    : >"$work/dev/$node"
    mount --bind "/dev/$node" "$work/dev/$node" || FAIL_CODE=94 fail "cannot bind /dev/$node"
done
mkfifo "$work/dev/iio:device0"
mount --rbind "$work/dev" /dev || FAIL_CODE=94 fail "cannot bind $work/dev on /dev"

# The writer opens the FIFO (waiting for the reader), writes the samples, then holds it open.
sh -c 'exec >"$1"; cat "$2"; exec sleep 3600' feeder /dev/iio:device0 "$work/samples.bin" &
feeder=$!
daemon=
cleanup() {
    kill "$feeder" 2>/dev/null || true
    # iiod waits on its blocked buffer reader after SIGTERM; it holds descriptors inherited from the
    # caller (who may wait for them to close), so it is killed outright.
    if [ -n "$daemon" ]; then kill -KILL "$daemon" 2>/dev/null || true; fi
}
trap cleanup EXIT

case "$backend" in
ip | ip-down)
    ip link set lo up || FAIL_CODE=95 fail "cannot bring up the loopback interface"
    ;;
esac
if [ "$backend" = ip ]; then
    iiod >"$work/iiod.log" 2>&1 &
    daemon=$!
    # Wait (up to 10 s) for iiod to listen (state 0A) on port 30431 (0x76DF), IPv4 or IPv6.
    tries=0
    until grep -qiE ':76DF [0-9A-F]+:[0-9A-F]+ 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -le 100 ] || FAIL_CODE=96 fail "iiod did not listen on port 30431 within 10 s: $(cat "$work/iiod.log")"
        kill -0 "$daemon" 2>/dev/null || FAIL_CODE=96 fail "iiod exited: $(cat "$work/iiod.log")"
        sleep 0.1
    done
fi

status=0
"$@" || status=$?
exit "$status"
