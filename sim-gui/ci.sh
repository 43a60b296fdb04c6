#!/usr/bin/env bash
# CI for sim-gui (called from .ci/run): installs the X server and Mesa packages a headless Debian
# machine needs, runs the GUI tests including the image snapshots with a pinned renderer, and a
# `sim-gui --screenshot` smoke test under Xvfb whose PNGs are checked.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== sim-gui: system packages"
# Runtime libraries of the window (GL via Mesa's software rasterizer, X11 input), the virtual X
# server, ImageMagick to check images, and lavapipe (Mesa's Vulkan CPU driver) that the snapshot
# tests render with. Only missing packages are installed.
pkgs=(xvfb xauth imagemagick libgl1-mesa-dri libegl1 libegl-mesa0 libgl1 libglx-mesa0
      libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1 mesa-vulkan-drivers libvulkan1)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages (run as root or install them): ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p -m 700 /tmp/xdg-sim-gui
export XDG_RUNTIME_DIR=/tmp/xdg-sim-gui   # silences lavapipe's Wayland probe

echo "== sim-gui: tests with image snapshots (wgpu pinned to Vulkan on lavapipe)"
WGPU_BACKEND=vulkan cargo test -p sim-gui --locked --features snapshots

echo "== sim-gui: --screenshot smoke test under Xvfb"
cargo build -p sim-gui --locked
out=target/ci-gui
rm -rf "$out"
mkdir -p "$out"
xvfb=(xvfb-run -a -s "-screen 0 1280x800x24")
timeout 600 "${xvfb[@]}" ./target/debug/sim-gui --screenshot "$out/quickstart.png" scenarios/quickstart.ron
check_png() { # file min_width min_height
    local f=$1 info w h mean
    test -s "$f" || { echo "missing $f" >&2; exit 1; }
    info=$(identify -format '%w %h %[fx:mean]' "$f")
    read -r w h mean <<<"$info"
    echo "$f: ${w}x${h}, mean ${mean}"
    [ "$w" -ge "$2" ] && [ "$h" -ge "$3" ] || { echo "$f is too small" >&2; exit 1; }
    # a dark theme is dark, but an all-black or blank capture is a failure
    awk -v m="$mean" 'BEGIN { exit !(m > 0.02 && m < 0.98) }' || { echo "$f looks blank" >&2; exit 1; }
}
check_png "$out/quickstart.png" 2000 1200          # 2 x 2 grid of 1280 x 800 views
for v in workload tag cost; do
    check_png "$out/quickstart-$v.png" 1000 600
done
# An invalid scenario: exit code 2, and the screenshot shows the problems.
printf 'Scenario(\n  seed: "x",\n)\n' > "$out/bad.ron"
set +e
timeout 300 "${xvfb[@]}" ./target/debug/sim-gui --screenshot "$out/bad.png" "$out/bad.ron"
code=$?
set -e
[ "$code" -eq 2 ] || { echo "invalid scenario: expected exit code 2, got $code" >&2; exit 1; }
check_png "$out/bad.png" 1000 600
echo "sim-gui CI passed"
