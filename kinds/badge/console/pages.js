// The badge kind's console page (the contract: CONSOLE_DESIGN.md, "The page-module contract").
// `{{build}}` is the console's build hash, written in when served: the modules are cached for good.

import attendance from './attendance.js?v={{build}}';
import strings from './strings.js?v={{build}}';

export default [{...attendance, strings}];
