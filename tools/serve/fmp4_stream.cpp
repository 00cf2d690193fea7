#include "fmp4_stream.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "render.h"
#include "responses.h"

namespace vdbserve {

namespace {
const size_t kMaxQueued = 4u << 20;
}

struct Fmp4Stream {
  SoupServerMessage *msg = nullptr;
  std::atomic<bool> cancel{false};
  std::mutex m;
  std::condition_variable cv;
  size_t queued = 0;      // bytes handed to libsoup, not yet written (under m)
  bool finished = false;  // the client is gone (main context)
  bool sent = false;      // a chunk was appended (main context)
  gulong handlers[2] = {0, 0};
  std::thread thread;
};

void Fmp4Streams::Start(SoupServerMessage *msg, const vdbtool::RemuxRequest &req) {
  auto s = std::make_shared<Fmp4Stream>();
  s->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type(h, "video/mp4", nullptr);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  // Written chunks are freed, not kept for the whole response.
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
  Fmp4Stream *raw = s.get();
  s->handlers[0] = g_signal_connect(msg, "wrote-body-data",
                                    G_CALLBACK(+[](SoupServerMessage *, guint n, Fmp4Stream *st) {
                                      {
                                        std::lock_guard<std::mutex> l(st->m);
                                        st->queued -= std::min<size_t>(n, st->queued);
                                      }
                                      st->cv.notify_all();
                                    }),
                                    raw);
  s->handlers[1] =
      g_signal_connect(msg, "finished", G_CALLBACK(+[](SoupServerMessage *, Fmp4Stream *st) {
                         st->finished = true;
                         st->cancel = true;
                         st->cv.notify_all();
                       }),
                       raw);
  soup_server_message_pause(msg);
  streams_.push_back(s);
  GMainContext *ctx = g_main_context_ref_thread_default();
  s->thread = std::thread([this, s, req, ctx] {
    auto chunk = [&s, ctx](GBytes *bytes) {
      {
        std::unique_lock<std::mutex> l(s->m);
        s->cv.wait(l, [&s] { return s->queued < kMaxQueued || s->cancel; });
        if (s->cancel) return false;
        s->queued += g_bytes_get_size(bytes);
      }
      auto *item = new std::pair<std::shared_ptr<Fmp4Stream>, GBytes *>(s, g_bytes_ref(bytes));
      g_main_context_invoke(
          ctx,
          +[](gpointer p) -> gboolean {
            auto *it = static_cast<std::pair<std::shared_ptr<Fmp4Stream>, GBytes *> *>(p);
            Fmp4Stream &st = *it->first;
            if (!st.finished) {
              soup_message_body_append_bytes(soup_server_message_get_response_body(st.msg),
                                             it->second);
              st.sent = true;
              soup_server_message_unpause(st.msg);
            }
            g_bytes_unref(it->second);
            delete it;
            return G_SOURCE_REMOVE;
          },
          item);
      return true;
    };
    std::string error = StreamFragmented(req, chunk, &s->cancel);
    struct Done {
      Fmp4Streams *self;
      std::shared_ptr<Fmp4Stream> s;
      std::string error;
    };
    g_main_context_invoke(
        ctx,
        +[](gpointer p) -> gboolean {
          auto *d = static_cast<Done *>(p);
          d->self->End(d->s, d->error);
          delete d;
          return G_SOURCE_REMOVE;
        },
        new Done{this, s, error});
    g_main_context_unref(ctx);
  });
}

void Fmp4Streams::End(const std::shared_ptr<Fmp4Stream> &s, const std::string &error) {
  if (s->thread.joinable()) s->thread.join();
  if (!s->finished) {
    if (!s->sent && !error.empty()) {
      soup_message_headers_set_encoding(soup_server_message_get_response_headers(s->msg),
                                        SOUP_ENCODING_CONTENT_LENGTH);
      RespondError(s->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error);
    } else {
      soup_message_body_complete(soup_server_message_get_response_body(s->msg));
    }
    soup_server_message_unpause(s->msg);
  }
  for (gulong h : s->handlers) g_signal_handler_disconnect(s->msg, h);
  g_object_unref(s->msg);
  streams_.remove(s);
}

void Fmp4Streams::StopAll() {
  for (auto &s : streams_) {
    s->cancel = true;
    s->cv.notify_all();
  }
  for (auto &s : streams_)
    if (s->thread.joinable()) s->thread.join();
  for (auto &s : streams_) {
    for (gulong h : s->handlers) g_signal_handler_disconnect(s->msg, h);
    g_object_unref(s->msg);
  }
  streams_.clear();
}

}  // namespace vdbserve
