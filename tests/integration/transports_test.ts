/** The transport suite for every transport × serializer, and in-process. */

import { runTransportSuite } from "./transport_suite.ts";
import { TRANSPORT_VIAS } from "../_helpers/router.ts";

for (const via of TRANSPORT_VIAS) runTransportSuite(via);
