// The badge kind's console page (the contract: CONSOLE_DESIGN.md, "The page-module contract").

import attendance from './attendance.js';
import strings from './strings.js';

export default [{...attendance, strings}];
