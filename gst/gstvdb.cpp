/* The vdb plugin: vdbsink and vdbsrc. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/gst.h>

#include "gstvdbsink.h"
#include "gstvdbsrc.h"

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(vdbsink, plugin);
  ok |= GST_ELEMENT_REGISTER(vdbsrc, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, vdb,
                  "vdb video database: crash-safe segment recording and seekable playback",
                  plugin_init, VERSION, "LGPL", PACKAGE, "vdb")
