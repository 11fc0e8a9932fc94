# The warning flags every target of the project builds with (not imposed on users of aio::aio).
function(aio_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(AIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
