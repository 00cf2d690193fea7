/* vdbsink: records encoded video into a vdb store. */
#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VDB_SINK (gst_vdb_sink_get_type())
G_DECLARE_FINAL_TYPE(GstVdbSink, gst_vdb_sink, GST, VDB_SINK, GstElement)

typedef enum {
  GST_VDB_SYNC_NONE,
  GST_VDB_SYNC_INTERVAL,
  GST_VDB_SYNC_EVERY_FRAME,
} GstVdbSyncMode;

typedef enum {
  GST_VDB_WALLCLOCK_SYSTEM,
  GST_VDB_WALLCLOCK_REFERENCE_META,
} GstVdbWallclock;

#define GST_TYPE_VDB_SYNC_MODE_TYPE (gst_vdb_sync_mode_get_type())
#define GST_TYPE_VDB_WALLCLOCK_TYPE (gst_vdb_wallclock_get_type())
GType gst_vdb_sync_mode_get_type(void);
GType gst_vdb_wallclock_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(vdbsink);

G_END_DECLS
