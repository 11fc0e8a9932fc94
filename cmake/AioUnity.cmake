# A target compiled as a unity build (CMake's UNITY_BUILD): `batch` sources to a translation
# unit, so the headers they share are parsed once per batch. The CI presets use it to save
# compile time (AIO_UNITY_TESTS, AIO_UNITY_LIBRARY); names at namespace scope must then differ
# from one source to the next, anonymous namespaces included.
function(aio_unity target batch)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${batch})
  # GCC takes the files a unity source includes for headers, and so warns that their
  # anonymous-namespace types appear in coroutine frames (-Wsubobject-linkage): a problem only
  # for a real header, which these are not.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()
