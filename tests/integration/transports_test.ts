/** The transport suite for every transport × serializer. */

import { runTransportSuite } from "./transport_suite.ts";
import { VIAS } from "../_helpers/router.ts";

for (const via of VIAS) runTransportSuite(via);
