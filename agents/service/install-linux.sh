#!/bin/sh
# Install the EduOps classroom agent on a Linux terminal from the county's offline bundle, as root:
#   sudo sh install-linux.sh --hub http://10.53.0.5:8080 --token et_3kQ9... --room R-530326-0001-101
# 在 Linux 终端上从县里的离线安装包安装 EduOps 教室探针（以 root 运行）。
# Steps: a virtual environment in /opt/eduops-agent with the agent from ./wheels (no internet);
# the user eduops-agent and its state directory; /etc/eduops-agent/agent.toml (kept if present);
# enrollment when --hub, --token and --room are given (an unreachable hub does not stop the
# install: the agent keeps its reports until it is enrolled); the systemd service, started.
# Options: --python PATH (default: python3), --uninstall (keeps the state directory). Run again
# from a newer bundle to upgrade (no --hub/--token/--room needed). See agent.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=python3
hub="" token="" room="" uninstall=""
while [ $# -gt 0 ]; do
    case "$1" in
        --hub) hub=$2; shift 2 ;;
        --token) token=$2; shift 2 ;;
        --room) room=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        *) echo "unknown option $1; see the top of $0" >&2; exit 2 ;;
    esac
done

# The Python check comes first: on 3.7 pip would only say "No matching distribution".
if ! command -v "$python" >/dev/null 2>&1; then
    echo "找不到 $python / $python not found: install Python 3.8 or later (python3, python3-venv), or pass --python PATH" >&2
    exit 2
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then
    echo "需要 Python 3.8 或更高版本 / Python 3.8 or later needed; $python is $("$python" -V 2>&1)." >&2
    echo "Install a newer Python (see agent.md, section 2) and pass it with --python PATH." >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "请用 root 运行（sudo） / Run as root (sudo)." >&2
    exit 2
fi

if [ -n "$uninstall" ]; then
    systemctl disable --now eduops-agent 2>/dev/null || true
    rm -f /etc/systemd/system/eduops-agent.service /usr/local/bin/eduops-agent
    systemctl daemon-reload 2>/dev/null || true
    rm -rf /opt/eduops-agent
    echo "Removed. The key and spool stay in /var/lib/eduops-agent and the settings in /etc/eduops-agent;"
    echo "delete them to forget this enrollment."
    exit 0
fi

# 1. The program, in its own virtual environment, from the bundle's wheels only.
if ! "$python" -m venv --help >/dev/null 2>&1; then
    echo "$python has no venv module: install python3-venv (Debian, UOS) and run this again." >&2
    exit 2
fi
[ -x /opt/eduops-agent/bin/python ] || "$python" -m venv /opt/eduops-agent
/opt/eduops-agent/bin/python -m pip install --quiet --disable-pip-version-check --no-index \
    --find-links "$here/wheels" --upgrade eduops-agent
ln -sf /opt/eduops-agent/bin/eduops-agent /usr/local/bin/eduops-agent

# 2. Its own user and state directory, readable by it alone; its settings.
id eduops-agent >/dev/null 2>&1 ||
    useradd --system --home-dir /var/lib/eduops-agent --shell /usr/sbin/nologin eduops-agent
install -d -o eduops-agent -g eduops-agent -m 0700 /var/lib/eduops-agent
install -d -m 0755 /etc/eduops-agent
[ -f /etc/eduops-agent/agent.toml ] || install -m 0644 "$here/agent.example.toml" /etc/eduops-agent/agent.toml

# 3. Enrollment. Exit code 75 means the hub cannot be reached now: the service is installed anyway
#    and keeps every report until the same enroll command is run again.
if [ -n "$hub$token$room" ]; then
    if [ -z "$hub" ] || [ -z "$token" ] || [ -z "$room" ]; then
        echo "Enrollment needs all of --hub, --token and --room." >&2
        exit 2
    fi
    code=0
    eduops-agent enroll --hub "$hub" --token "$token" --room "$room" --config /etc/eduops-agent/agent.toml || code=$?
    if [ "$code" -eq 75 ]; then
        echo "The hub cannot be reached now: the service is installed anyway and keeps its reports;" >&2
        echo "run the same enroll command again when the network is back." >&2
    elif [ "$code" -ne 0 ]; then
        exit "$code"
    fi
fi

# 4. The service.
install -m 0644 "$here/eduops-agent.service" /etc/systemd/system/eduops-agent.service
systemctl daemon-reload
systemctl enable eduops-agent
systemctl restart eduops-agent  # restart, not start: after an upgrade the new program must run
echo "Installed. Log: journalctl -u eduops-agent -f"
eduops-agent status --config /etc/eduops-agent/agent.toml || true
