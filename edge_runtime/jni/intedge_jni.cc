// libintedge_jni.so: the native methods of org.intedge.Session
// (apps/android/bridge) over the C API (include/intedge/intedge.h).
//
// Each function is one C API call, or a loop of them, and the JNI plumbing
// around it: Java arrays and direct buffers in, Java out-arrays filled, and
// every failing ie_status thrown as org.intedge.IntedgeException(message,
// status) with the C API's message. No checks or defaults of its own: the
// C API judges every argument. Names, paths and messages cross as UTF-8
// byte arrays that Java encodes and decodes: a name in a file need not be
// the modified UTF-8 that NewStringUTF and GetStringUTFChars speak.
//
// JNI discipline: every JNI call that can throw is checked before the next
// one, local references made in loops are deleted, nothing is held across
// a return, and no C++ exception crosses into the VM (Guard).
#include <jni.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "intedge/intedge.h"

namespace {

constexpr size_t kMessageBytes = 1024;
constexpr int kMetaFields = 4;  // nativeInfo's meta: dtype, rank, bytes, dynamic axes, then the shape

ie_session* Session(jlong handle) { return reinterpret_cast<ie_session*>(static_cast<intptr_t>(handle)); }

jlong Handle(ie_session* s) { return static_cast<jlong>(reinterpret_cast<intptr_t>(s)); }

// s as a Java byte[] (NULL for a NULL s, or with OutOfMemoryError pending).
jbyteArray Utf8(JNIEnv* env, const char* s) {
  if (!s) return nullptr;
  const jsize n = static_cast<jsize>(std::strlen(s));
  jbyteArray a = env->NewByteArray(n);
  if (a) env->SetByteArrayRegion(a, 0, n, reinterpret_cast<const jbyte*>(s));
  return a;
}

void ThrowNamed(JNIEnv* env, const char* cls, const char* message) {
  if (env->ExceptionCheck()) return;
  jclass c = env->FindClass(cls);
  if (c) env->ThrowNew(c, message);  // message: ASCII, ours
}

// Throws IntedgeException(message, status); an exception already pending stays (it came first).
void Throw(JNIEnv* env, ie_status status, const char* message) {
  if (env->ExceptionCheck()) return;
  jclass cls = env->FindClass("org/intedge/IntedgeException");
  if (!cls) return;
  jmethodID init = env->GetMethodID(cls, "<init>", "([BI)V");
  jbyteArray text = init ? Utf8(env, message) : nullptr;
  jobject e = text ? env->NewObject(cls, init, text, static_cast<jint>(status)) : nullptr;
  if (e) env->Throw(static_cast<jthrowable>(e));
  env->DeleteLocalRef(e);
  env->DeleteLocalRef(text);
  env->DeleteLocalRef(cls);
}

// Runs f, turning a C++ exception from this file's containers into a Java one.
template <typename F>
auto Guard(JNIEnv* env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    ThrowNamed(env, "java/lang/OutOfMemoryError", "intedge_jni: out of native memory");
  } catch (...) {
    Throw(env, IE_ERR_INTERNAL, "intedge_jni: unexpected C++ exception");
  }
  return decltype(f())();
}

// A Java byte[] (UTF-8, without NUL) as a C string; false with an exception pending.
bool CString(JNIEnv* env, jbyteArray a, std::string* out) {
  const jsize n = env->GetArrayLength(a);
  out->assign(static_cast<size_t>(n), '\0');
  env->GetByteArrayRegion(a, 0, n, reinterpret_cast<jbyte*>(out->data()));
  return !env->ExceptionCheck();
}

// The options of Session.Options; isa may be NULL (the C API's default). False with an exception pending.
bool Options(JNIEnv* env, jint threads, jbyteArray isa, jboolean profile, jboolean check_finite,
             jlong max_arena_bytes, std::string* isa_storage, ie_session_options* o) {
  ie_session_options_init(o);
  o->threads = threads;
  o->profile = profile ? 1 : 0;
  o->check_finite = check_finite ? 1 : 0;
  o->max_arena_bytes = max_arena_bytes;
  if (!isa) return true;
  if (!CString(env, isa, isa_storage)) return false;
  o->isa = isa_storage->c_str();
  return true;
}

// The session or 0, having thrown what the C API said.
jlong Opened(JNIEnv* env, ie_status st, ie_session* s, const char* message) {
  if (st == IE_OK) return Handle(s);
  ie_session_close(s);  // NULL after a failure; closing is harmless either way
  Throw(env, st, message);
  return 0;
}

// Copies Java long[] a (at most IE_MAX_RANK entries) into t's shape and its length into t's rank.
bool ReadShape(JNIEnv* env, jlongArray a, ie_tensor* t) {
  const jsize n = env->GetArrayLength(a);
  t->rank = static_cast<int32_t>(n);  // a rank over IE_MAX_RANK is the C API's to refuse
  static_assert(sizeof(jlong) == sizeof(int64_t), "jlong is 64 bits");
  env->GetLongArrayRegion(a, 0, n < IE_MAX_RANK ? n : IE_MAX_RANK, reinterpret_cast<jlong*>(t->shape));
  return !env->ExceptionCheck();
}

// Element i of a Java object array: a local reference, or NULL with an exception pending (NullPointerException
// for a NULL element).
template <typename T>
T Element(JNIEnv* env, jobjectArray a, jsize i) {
  jobject e = env->GetObjectArrayElement(a, i);
  if (!e && !env->ExceptionCheck()) ThrowNamed(env, "java/lang/NullPointerException", "intedge_jni: a null element");
  return static_cast<T>(e);
}

// The address and capacity of a direct buffer; false with an exception pending.
bool Direct(JNIEnv* env, jobject buffer, void** data, size_t* bytes) {
  *data = env->GetDirectBufferAddress(buffer);
  const jlong capacity = env->GetDirectBufferCapacity(buffer);
  if (env->ExceptionCheck()) return false;
  if (!*data && capacity != 0) {
    ThrowNamed(env, "java/lang/IllegalArgumentException", "intedge_jni: not a direct buffer");
    return false;
  }
  *bytes = capacity < 0 ? 0 : static_cast<size_t>(capacity);
  return true;
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM*, void*) { return JNI_VERSION_1_6; }

JNIEXPORT jint JNICALL Java_org_intedge_Session_nativeFormatVersion(JNIEnv*, jclass) {
  uint16_t major = 0, minor = 0;
  ie_format_version(&major, &minor);
  return static_cast<jint>(major) << 16 | minor;
}

JNIEXPORT jstring JNICALL Java_org_intedge_Session_nativeIsaName(JNIEnv* env, jclass, jint index) {
  const char* name = ie_isa_name(index);
  return name ? env->NewStringUTF(name) : nullptr;  // ISA names are ASCII
}

JNIEXPORT jboolean JNICALL Java_org_intedge_Session_nativeIsaSupported(JNIEnv* env, jclass, jbyteArray isa) {
  return Guard(env, [&]() -> jboolean {
    std::string name;
    if (!CString(env, isa, &name)) return JNI_FALSE;
    return ie_isa_supported(name.c_str()) ? JNI_TRUE : JNI_FALSE;
  });
}

JNIEXPORT jlong JNICALL Java_org_intedge_Session_nativeOpenFile(JNIEnv* env, jclass, jbyteArray path, jint threads,
                                                                jbyteArray isa, jboolean profile, jboolean check_finite,
                                                                jlong max_arena_bytes) {
  return Guard(env, [&]() -> jlong {
    std::string file, isa_name;
    ie_session_options o;
    if (!CString(env, path, &file) ||
        !Options(env, threads, isa, profile, check_finite, max_arena_bytes, &isa_name, &o)) {
      return 0;
    }
    char message[kMessageBytes] = "";
    ie_session* s = nullptr;
    const ie_status st = ie_session_open_file(file.c_str(), &o, &s, message, sizeof message);
    return Opened(env, st, s, message);
  });
}

// model: a direct buffer, the whole of it the file (Java passes a slice); the C API copies it.
JNIEXPORT jlong JNICALL Java_org_intedge_Session_nativeOpenBuffer(JNIEnv* env, jclass, jobject model, jint threads,
                                                                  jbyteArray isa, jboolean profile,
                                                                  jboolean check_finite, jlong max_arena_bytes) {
  return Guard(env, [&]() -> jlong {
    std::string isa_name;
    ie_session_options o;
    void* data = nullptr;
    size_t size = 0;
    if (!Direct(env, model, &data, &size) ||
        !Options(env, threads, isa, profile, check_finite, max_arena_bytes, &isa_name, &o)) {
      return 0;
    }
    char message[kMessageBytes] = "";
    ie_session* s = nullptr;
    const ie_status st = ie_session_open_buffer(data, size, &o, &s, message, sizeof message);
    return Opened(env, st, s, message);
  });
}

JNIEXPORT void JNICALL Java_org_intedge_Session_nativeClose(JNIEnv*, jclass, jlong handle) {
  ie_session_close(Session(handle));
}

JNIEXPORT jint JNICALL Java_org_intedge_Session_nativeInputCount(JNIEnv*, jclass, jlong handle) {
  return ie_session_input_count(Session(handle));
}

JNIEXPORT jint JNICALL Java_org_intedge_Session_nativeOutputCount(JNIEnv*, jclass, jlong handle) {
  return ie_session_output_count(Session(handle));
}

// Input or output `index`: returns its name; meta gets {dtype, rank, bytes, dynamic axes (inputs), shape...}
// (4 + IE_MAX_RANK entries), scale[0] its scale.
JNIEXPORT jbyteArray JNICALL Java_org_intedge_Session_nativeInfo(JNIEnv* env, jclass, jlong handle, jboolean output,
                                                                 jint index, jlongArray meta, jdoubleArray scale) {
  ie_tensor t;
  std::memset(&t, 0, sizeof t);
  const ie_status st = output ? ie_session_output_info(Session(handle), index, &t)
                              : ie_session_input_info(Session(handle), index, &t);
  if (st != IE_OK) {
    Throw(env, st, output ? "ie_session_output_info: no such output" : "ie_session_input_info: no such input");
    return nullptr;
  }
  jlong values[kMetaFields + IE_MAX_RANK] = {
      t.dtype, t.rank, static_cast<jlong>(t.bytes),
      output ? 0 : static_cast<jlong>(ie_session_input_dynamic_axes(Session(handle), index))};
  for (int32_t d = 0; d < t.rank && d < IE_MAX_RANK; ++d) values[kMetaFields + d] = t.shape[d];
  env->SetLongArrayRegion(meta, 0, kMetaFields + IE_MAX_RANK, values);
  if (env->ExceptionCheck()) return nullptr;
  env->SetDoubleArrayRegion(scale, 0, 1, &t.scale);
  if (env->ExceptionCheck()) return nullptr;
  return Utf8(env, t.name);
}

JNIEXPORT jlong JNICALL Java_org_intedge_Session_nativeDynamicBound(JNIEnv*, jclass, jlong handle) {
  return ie_session_dynamic_dim(Session(handle), nullptr);
}

JNIEXPORT jbyteArray JNICALL Java_org_intedge_Session_nativeDynamicName(JNIEnv* env, jclass, jlong handle) {
  const char* name = nullptr;
  ie_session_dynamic_dim(Session(handle), &name);
  return Utf8(env, name);
}

// One ie_session_run_copy. inputs[i]: a direct buffer (all of it the data) with dtypes[i], shapes[i] and
// names[i] (NULL: unnamed); outputs[i]: a direct buffer with room for output i at the bound. On success,
// out_shapes[i] (IE_MAX_RANK entries), out_ranks[i] and out_bytes[i] get output i's shape at the run's length.
JNIEXPORT void JNICALL Java_org_intedge_Session_nativeRun(JNIEnv* env, jclass, jlong handle, jobjectArray inputs,
                                                          jobjectArray names, jintArray dtypes, jobjectArray shapes,
                                                          jobjectArray outputs, jobjectArray out_shapes,
                                                          jintArray out_ranks, jlongArray out_bytes) {
  Guard(env, [&]() -> int {
    const jsize n_in = env->GetArrayLength(inputs), n_out = env->GetArrayLength(outputs);
    if (env->GetArrayLength(names) != n_in || env->GetArrayLength(dtypes) != n_in ||
        env->GetArrayLength(shapes) != n_in || env->GetArrayLength(out_shapes) != n_out ||
        env->GetArrayLength(out_ranks) != n_out || env->GetArrayLength(out_bytes) != n_out) {
      ThrowNamed(env, "java/lang/IllegalArgumentException", "intedge_jni: nativeRun's arrays disagree in length");
      return 0;
    }
    std::vector<ie_tensor> in(static_cast<size_t>(n_in)), out(static_cast<size_t>(n_out));
    std::vector<std::string> in_names(static_cast<size_t>(n_in));
    std::vector<jint> codes(static_cast<size_t>(n_in));
    env->GetIntArrayRegion(dtypes, 0, n_in, codes.data());
    if (env->ExceptionCheck()) return 0;
    for (jsize i = 0; i < n_in; ++i) {
      ie_tensor& t = in[static_cast<size_t>(i)];
      t.dtype = static_cast<ie_dtype>(codes[static_cast<size_t>(i)]);
      auto buffer = Element<jobject>(env, inputs, i);
      if (!buffer || !Direct(env, buffer, &t.data, &t.bytes)) return 0;
      env->DeleteLocalRef(buffer);
      auto shape = Element<jlongArray>(env, shapes, i);
      if (!shape || !ReadShape(env, shape, &t)) return 0;
      env->DeleteLocalRef(shape);
      auto name = static_cast<jbyteArray>(env->GetObjectArrayElement(names, i));  // NULL: unnamed
      if (env->ExceptionCheck()) return 0;
      if (name) {
        if (!CString(env, name, &in_names[static_cast<size_t>(i)])) return 0;
        t.name = in_names[static_cast<size_t>(i)].c_str();
        env->DeleteLocalRef(name);
      }
    }
    for (jsize i = 0; i < n_out; ++i) {
      auto buffer = Element<jobject>(env, outputs, i);
      if (!buffer || !Direct(env, buffer, &out[static_cast<size_t>(i)].data, &out[static_cast<size_t>(i)].bytes)) {
        return 0;
      }
      env->DeleteLocalRef(buffer);
    }
    char message[kMessageBytes] = "";
    const ie_status st =
        ie_session_run_copy(Session(handle), in.data(), n_in, out.data(), n_out, message, sizeof message);
    if (st != IE_OK) {
      Throw(env, st, message);
      return 0;
    }
    std::vector<jint> ranks(static_cast<size_t>(n_out));
    std::vector<jlong> bytes(static_cast<size_t>(n_out));
    for (jsize i = 0; i < n_out; ++i) {
      const ie_tensor& t = out[static_cast<size_t>(i)];
      ranks[static_cast<size_t>(i)] = t.rank;
      bytes[static_cast<size_t>(i)] = static_cast<jlong>(t.bytes);
      auto shape = Element<jlongArray>(env, out_shapes, i);
      if (!shape) return 0;
      env->SetLongArrayRegion(shape, 0, t.rank, reinterpret_cast<const jlong*>(t.shape));
      if (env->ExceptionCheck()) return 0;
      env->DeleteLocalRef(shape);
    }
    env->SetIntArrayRegion(out_ranks, 0, n_out, ranks.data());
    if (env->ExceptionCheck()) return 0;
    env->SetLongArrayRegion(out_bytes, 0, n_out, bytes.data());
    return 0;
  });
}

JNIEXPORT jstring JNICALL Java_org_intedge_Session_nativeIsa(JNIEnv* env, jclass, jlong handle) {
  return env->NewStringUTF(ie_session_isa(Session(handle)));  // ISA names are ASCII
}

JNIEXPORT jint JNICALL Java_org_intedge_Session_nativeThreads(JNIEnv*, jclass, jlong handle) {
  return ie_session_threads(Session(handle));
}

JNIEXPORT jlong JNICALL Java_org_intedge_Session_nativeArenaBytes(JNIEnv*, jclass, jlong handle) {
  return static_cast<jlong>(ie_session_arena_bytes(Session(handle)));
}

JNIEXPORT jlong JNICALL Java_org_intedge_Session_nativeWeightBytes(JNIEnv*, jclass, jlong handle) {
  return static_cast<jlong>(ie_session_weight_bytes(Session(handle)));
}

JNIEXPORT jlong JNICALL Java_org_intedge_Session_nativePackedWeightBytes(JNIEnv*, jclass, jlong handle) {
  return static_cast<jlong>(ie_session_packed_weight_bytes(Session(handle)));
}

JNIEXPORT jint JNICALL Java_org_intedge_Session_nativeOpCount(JNIEnv*, jclass, jlong handle) {
  return ie_session_op_count(Session(handle));
}

// The kernel table: op k's kind, name and kernel (UTF-8) and its profile, for k below the arrays' length.
JNIEXPORT void JNICALL Java_org_intedge_Session_nativeOps(JNIEnv* env, jclass, jlong handle, jobjectArray kinds,
                                                          jobjectArray names, jobjectArray kernels,
                                                          jdoubleArray total_us, jlongArray runs) {
  const jsize n = env->GetArrayLength(kinds);
  for (jsize k = 0; k < n; ++k) {
    ie_op_info op;
    const ie_status st = ie_session_op_info(Session(handle), k, &op);
    if (st != IE_OK) {
      Throw(env, st, "ie_session_op_info: no such op");
      return;
    }
    const char* text[3] = {op.kind, op.name, op.kernel};
    jobjectArray into[3] = {kinds, names, kernels};
    for (int f = 0; f < 3; ++f) {
      jbyteArray a = Utf8(env, text[f]);
      if (env->ExceptionCheck()) return;
      env->SetObjectArrayElement(into[f], k, a);
      env->DeleteLocalRef(a);
      if (env->ExceptionCheck()) return;
    }
    const jlong r = op.runs;
    env->SetDoubleArrayRegion(total_us, k, 1, &op.total_us);
    if (env->ExceptionCheck()) return;
    env->SetLongArrayRegion(runs, k, 1, &r);
    if (env->ExceptionCheck()) return;
  }
}

}  // extern "C"
