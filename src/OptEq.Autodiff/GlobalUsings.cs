global using System.Numerics;
global using OptEq.Kernels;
