// Plugins for element tests, as GStreamer's own tests/check do it: every
// test binary runs with its own registry (GST_REGISTRY), no system plugin
// path (GST_PLUGIN_SYSTEM_PATH_1_0 empty) and vdb's plugin from the build
// tree (GST_PLUGIN_PATH_1_0), all set by tests/gst/meson.build. The system
// plugins a test case needs are named where the case is added and loaded,
// once, from GStreamer's plugin directory.
//
// A case whose plugins are missing, or cannot be loaded in this process, is
// not added: a "SKIP <case>: <reason>" line is printed and appended to the
// file named by $VDB_SKIP_LOG (the test command prints and counts them). A
// plugin is first loaded in a forked child, so that one whose libraries kill
// the process (libav pulls in libhwy, which dies with SIGILL under valgrind
// on a CPU without rdtscp) costs only the cases that need it.
//
// Thread rules: call from the suite function (one thread).
#pragma once

#include <gst/gst.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>

#ifndef VDB_GST_PLUGINS_DIR
#error "VDB_GST_PLUGINS_DIR must name GStreamer's system plugin directory"
#endif

namespace vdbtest {

struct PluginState {
  bool usable = false;
  std::string why;  // when not usable
};

// True when running under valgrind (its preload library is mapped).
inline bool RunningUnderValgrind() {
  const char *p = g_getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload") != NULL;
}

// Loads libgst<name>.so from the system plugin directory (once).
inline const PluginState &LoadPlugin(const std::string &name) {
  static std::map<std::string, PluginState> plugins;
  auto it = plugins.find(name);
  if (it != plugins.end()) return it->second;
  PluginState &st = plugins[name];
  std::string path = std::string(VDB_GST_PLUGINS_DIR) + "/libgst" + name + ".so";
  if (!g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) {
    st.why = "plugin '" + name + "' is not installed (" + path + ")";
    return st;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    GstPlugin *p = gst_plugin_load_file(path.c_str(), NULL);
    _exit(p ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    st.why = "could not fork to probe plugin '" + name + "'";
    return st;
  }
  if (WIFSIGNALED(status)) {
    st.why = "loading plugin '" + name + "' kills the process here (signal " +
             std::to_string(WTERMSIG(status)) + ", " + strsignal(WTERMSIG(status)) + ")";
    if (RunningUnderValgrind()) st.why += " under valgrind: it runs outside valgrind in step 1";
    return st;
  }
  GError *err = NULL;
  GstPlugin *p = WEXITSTATUS(status) == 0 ? gst_plugin_load_file(path.c_str(), &err) : NULL;
  if (!p) {
    st.why = "plugin '" + name + "' does not load: " + (err ? err->message : "see GST_DEBUG");
    g_clear_error(&err);
    return st;
  }
  gst_object_unref(p);  // the registry keeps it
  st.usable = true;
  return st;
}

// Prints "SKIP <test>: <why>" and appends it to $VDB_SKIP_LOG.
inline void LogSkip(const char *test, const std::string &why) {
  std::string line = std::string("SKIP ") + test + ": " + why + "\n";
  fputs(line.c_str(), stdout);
  fflush(stdout);
  if (const char *log = g_getenv("VDB_SKIP_LOG")) {
    if (FILE *f = fopen(log, "a")) {
      fputs(line.c_str(), f);
      fclose(f);
    }
  }
}

// True when every plugin loads; otherwise logs the skip.
inline bool NeedPlugins(const char *test, std::initializer_list<const char *> names) {
  for (const char *n : names) {
    const PluginState &st = LoadPlugin(n);
    if (st.usable) continue;
    LogSkip(test, st.why);
    return false;
  }
  return true;
}

}  // namespace vdbtest

// Adds a test case when the system plugins it needs load (see above).
#define VDB_ADD_TEST(tc, tf, ...)                                         \
  do {                                                                    \
    if (vdbtest::NeedPlugins(#tf, {__VA_ARGS__})) tcase_add_test(tc, tf); \
  } while (0)
