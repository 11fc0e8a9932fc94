module aiobench/multicore

go 1.19
