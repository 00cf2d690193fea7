/* vdbsrc: plays a stream of a vdb store as one seekable stream in TIME, one
 * pad per track. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VDB_SRC (gst_vdb_src_get_type())
G_DECLARE_FINAL_TYPE(GstVdbSrc, gst_vdb_src, GST, VDB_SRC, GstBin)

typedef enum {
  GST_VDB_GAPS_PRESERVE,
  GST_VDB_GAPS_COLLAPSE,
} GstVdbGaps;

#define GST_TYPE_VDB_GAPS_TYPE (gst_vdb_gaps_get_type())
GType gst_vdb_gaps_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(vdbsrc);

G_END_DECLS
