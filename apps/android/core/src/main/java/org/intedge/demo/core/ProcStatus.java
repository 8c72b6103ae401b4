package org.intedge.demo.core;

/** Reads the process's memory from the text of {@code /proc/self/status}. */
public final class ProcStatus {
  private ProcStatus() {}

  /** The resident set size ({@code VmRSS:   40000 kB}) in bytes, or -1 when the text has no such line. */
  public static long residentBytes(String procSelfStatus) {
    for (String line : procSelfStatus.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        String[] fields = line.substring("VmRSS:".length()).trim().split("\\s+");
        if (fields.length == 2 && fields[1].equals("kB")) {
          return Long.parseLong(fields[0]) * 1024;
        }
      }
    }
    return -1;
  }
}
