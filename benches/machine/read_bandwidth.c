// The memory read bandwidth two threads get: a sum over 1 GiB of u64, five times.
//   gcc -O3 -march=native -pthread read_bandwidth.c -o /tmp/bw && /tmp/bw
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <pthread.h>
#include <string.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define N ((size_t)1<<27) /* 2^27 u64 = 1 GiB */
uint64_t *a; uint64_t sums[2];
void*run(void*p){size_t h=(size_t)p; uint64_t s0=0,s1=0,s2=0,s3=0; for(size_t i=h*N/2;i<(h+1)*N/2;i+=4){s0+=a[i];s1+=a[i+1];s2+=a[i+2];s3+=a[i+3];} sums[h]=s0+s1+s2+s3; return 0;}
int main(){a=aligned_alloc(4096,N*8); memset(a,1,N*8);
 for(int r=0;r<5;r++){double t=now(); pthread_t x,y; pthread_create(&x,0,run,(void*)0); pthread_create(&y,0,run,(void*)1); pthread_join(x,0); pthread_join(y,0); double d=now()-t; printf("%.3f s  %.1f GB/s  (%llu)\n", d, N*8/d/1e9, (unsigned long long)(sums[0]+sums[1]));}}
