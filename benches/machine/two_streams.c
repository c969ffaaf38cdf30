// What a comparison of two tensors can reach at most: two threads summing a[i] - b[i] over two
// arrays of 2^26 doubles (512 MiB each, the shape of `diff` of two F64 tensors), five times,
// in G element pairs per second. Memory bound: nothing is done with the values but a sum.
//   gcc -O3 -march=native -pthread two_streams.c -o /tmp/two && /tmp/two
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <pthread.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define N ((size_t)1<<26)
double *a, *b; double sums[2];
void*run(void*p){size_t h=(size_t)p; double s0=0,s1=0,s2=0,s3=0,s4=0,s5=0,s6=0,s7=0;
 for(size_t i=h*N/2;i<(h+1)*N/2;i+=8){s0+=a[i]-b[i];s1+=a[i+1]-b[i+1];s2+=a[i+2]-b[i+2];s3+=a[i+3]-b[i+3];
  s4+=a[i+4]-b[i+4];s5+=a[i+5]-b[i+5];s6+=a[i+6]-b[i+6];s7+=a[i+7]-b[i+7];}
 sums[h]=s0+s1+s2+s3+s4+s5+s6+s7; return 0;}
int main(){a=aligned_alloc(4096,N*8); b=aligned_alloc(4096,N*8);
 for(size_t i=0;i<N;i++){a[i]=i*1e-9; b[i]=i*2e-9;}
 for(int r=0;r<5;r++){double t=now(); pthread_t x,y; pthread_create(&x,0,run,(void*)0); pthread_create(&y,0,run,(void*)1);
  pthread_join(x,0); pthread_join(y,0); double d=now()-t;
  printf("%.3f s  %.2f G pairs/s  %.1f GB/s  (%g)\n", d, N/d/1e9, 2*N*8/d/1e9, sums[0]+sums[1]);}}
