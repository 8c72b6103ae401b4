package org.intedge.demo.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class ProcStatusTest {
  @Test
  public void residentSetFromProcSelfStatus() {
    String status = "Name:\tintedge.demo\nVmPeak:\t 1234567 kB\nVmRSS:\t   40000 kB\nRssAnon:\t   20000 kB\n";
    assertEquals(40000L * 1024, ProcStatus.residentBytes(status));
    assertEquals(-1, ProcStatus.residentBytes("Name:\tx\n"));
  }
}
