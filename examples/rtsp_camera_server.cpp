/* rtsp_camera_server: a stand-in for an IP camera. Serves H.264 test video
 * at rtsp://127.0.0.1:PORT/cam (loopback only).
 *
 *   rtsp_camera_server [PORT]      (default 8554; Ctrl-C or SIGTERM stops it)
 */
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  const char *port = argc > 1 ? argv[1] : "8554";
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  GstRTSPServer *server = gst_rtsp_server_new();
  g_object_set(server, "address", "127.0.0.1", "service", port, NULL);
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(
      factory,
      "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 "
      "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! rtph264pay name=pay0 "
      "pt=96 config-interval=-1 )");
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, NULL) == 0) {
    g_printerr("rtsp_camera_server: cannot listen on 127.0.0.1:%s\n", port);
    return 1;
  }
  g_print("rtsp_camera_server: rtsp://127.0.0.1:%s/cam\n", port);
  g_main_loop_run(loop);
  return 0;
}
