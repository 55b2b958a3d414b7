"""A real RTSP server for the live tests: GStreamer's RTSP server (Debian packages, see
scripts/setup.sh --tests) serving one MP4 (H.264) at real time on 127.0.0.1.

usage: /usr/bin/python3 rtsp_server.py FILE PORT [PATH]
Prints "ready rtsp://127.0.0.1:PORT/PATH" once it listens, "transport T" with the Transport
header of every SETUP a client sends (RTP/AVP/TCP... or RTP/AVP;unicast... for UDP), and "play EPOCH_MS" whenever a
client's media is set up (the benchmark's "frame served" clock: frame t plays at EPOCH_MS + t). Each client gets its own pipeline
from the start of the file (a camera that starts when you look at it). Tests only.
"""
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

path, port = sys.argv[1], sys.argv[2]
mount = sys.argv[3] if len(sys.argv) > 3 else "live"
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(f"( filesrc location={path} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )")
factory.set_shared(False)
factory.connect("media-configure", lambda _f, _m: print(f"play {int(time.time() * 1000)}", flush=True))


def on_setup(_client, ctx):
    ok, value = ctx.request.get_header(GstRtsp.RTSPHeaderField.TRANSPORT, 0)
    if ok == GstRtsp.RTSPResult.OK:
        print(f"transport {value}", flush=True)


server.connect("client-connected", lambda _s, client: client.connect("setup-request", on_setup))
server.get_mount_points().add_factory(f"/{mount}", factory)
if server.attach(None) == 0:
    sys.exit("cannot listen")
print(f"ready rtsp://127.0.0.1:{port}/{mount}", flush=True)
GLib.MainLoop().run()
